package image

import (
	"context"

	"github.com/pyship/pyship/internal/pybuild"
)

func hostVersionOf(ctx context.Context, python string) (string, error) {
	return pybuild.HostVersion(ctx, python)
}

package image

import (
	"context"

	"github.com/pyship/pyship/internal/pybuild"
)

func hostVersionOf(ctx context.Context, python string) (version, executable string, err error) {
	return pybuild.HostVersion(ctx, python)
}

package backup

import (
	"reflect"
	"testing"

	"github.com/pyship/pyship/internal/plan"
)

func TestPlanSources(t *testing.T) {
	p := &plan.Plan{Dir: "/app", Data: []plan.DataFolder{
		{Path: "data/uploads", Persistent: true}, {Path: "static", Persistent: false}, {Path: "/var/lib/app", Persistent: true},
	}}
	want := []Source{
		{Name: "data-uploads", Kind: KindDir, Path: "/app/data/uploads"},
		{Name: "var-lib-app", Kind: KindDir, Path: "/var/lib/app"},
	}
	if got := PlanSources(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("PlanSources = %+v, want %+v", got, want)
	}
}

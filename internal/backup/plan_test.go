package backup

import (
	"reflect"
	"strings"
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

func TestFromPlan(t *testing.T) {
	p := &plan.Plan{Dir: "/app", SecretsFile: "/etc/shop.env",
		Data: []plan.DataFolder{{Path: "data", Persistent: true}, {Path: "static"}},
		Backup: &plan.Backup{Destination: "s3://b/shop", Schedule: "@daily", Recipients: []string{"age1x"},
			Retention: plan.Retention{KeepLast: 2, KeepWeekly: 4},
			Folders:   []string{"data"}, SQLite: []string{"data/app.db", "static/ref.db"},
			Postgres: []plan.PostgresSource{{Name: "db", Secret: "DATABASE_URL"}, {Name: "events", Secret: "EVENTS_DSN"}}}}
	secrets := map[string]string{"DATABASE_URL": "postgres://u:pw@db/shop", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"}
	env := map[string]string{"EVENTS_DSN": "postgres://u@db/events", "DATABASE_URL": "postgres://wrong"}
	getenv := func(k string) string { return env[k] }

	cfg, err := FromPlan(p, PlanOptions{DataRoot: "/home/pyship/apps/shop/data", Secrets: secrets, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Destination: "s3://b/shop", Schedule: "@daily", Recipients: []string{"age1x"},
		Credentials: Credentials{AccessKey: "AK", SecretKey: "SK"},
		Retention:   Retention{Last: 2, Weekly: 4},
		Sources: []Source{
			{Name: "data", Kind: KindDir, Path: "/home/pyship/apps/shop/data/data"},
			{Name: "app", Kind: KindSQLite, Path: "/home/pyship/apps/shop/data/data/app.db"},
			{Name: "ref", Kind: KindSQLite, Path: "/app/static/ref.db"},      // not persistent: the project's copy
			{Name: "db", Kind: KindPostgres, DSN: "postgres://u:pw@db/shop"}, // the secrets win over the environment
			{Name: "events", Kind: KindPostgres, DSN: "postgres://u@db/events"},
		}}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("FromPlan =\n%+v\nwant\n%+v", cfg, want)
	}

	// Without a live data root, everything is read in the project.
	cfg, err = FromPlan(p, PlanOptions{Secrets: secrets, Getenv: getenv})
	if err != nil || cfg.Sources[0].Path != "/app/data" || cfg.Sources[1].Path != "/app/data/app.db" {
		t.Fatalf("FromPlan without a data root: %+v, %v", cfg.Sources, err)
	}

	// A DSN variable set nowhere is an error naming it and where it was looked for.
	_, err = FromPlan(p, PlanOptions{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), `[backup] postgres "events" takes its DSN from $EVENTS_DSN, which is not set in the secrets file /etc/shop.env or the environment`) {
		t.Fatalf("missing DSN variable: %v", err)
	}

	// Without [backup], the persistent folders.
	p.Backup = nil
	cfg, err = FromPlan(p, PlanOptions{DataRoot: "/live"})
	if err != nil || !reflect.DeepEqual(cfg.Sources, []Source{{Name: "data", Kind: KindDir, Path: "/live/data"}}) {
		t.Fatalf("FromPlan without [backup]: %+v, %v", cfg, err)
	}
}

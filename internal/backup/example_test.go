package backup_test

import (
	"fmt"

	"github.com/pyship/pyship/internal/backup"
	"github.com/pyship/pyship/internal/plan"
)

// FromPlan reads a deployed app's folders from its live data root and takes PostgreSQL DSNs
// from its secrets by variable name.
func ExampleFromPlan() {
	p := &plan.Plan{Dir: "/src/shop", Data: []plan.DataFolder{{Path: "data", Persistent: true}},
		Backup: &plan.Backup{Destination: "s3://backups/shop", Folders: []string{"data"}, SQLite: []string{"data/app.db"},
			Postgres: []plan.PostgresSource{{Name: "db", Secret: "DATABASE_URL"}}}}
	cfg, err := backup.FromPlan(p, backup.PlanOptions{DataRoot: "/var/lib/pyship/apps/shop/data",
		Secrets: map[string]string{"DATABASE_URL": "postgres://shop@db/shop"}})
	if err != nil {
		panic(err)
	}
	for _, s := range cfg.Sources {
		fmt.Println(s.Name, s.Kind, s.Path+s.DSN)
	}
	// Output:
	// data dir /var/lib/pyship/apps/shop/data/data
	// app sqlite /var/lib/pyship/apps/shop/data/data/app.db
	// db postgres postgres://shop@db/shop
}

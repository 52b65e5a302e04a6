package schedule_test

import (
	"fmt"
	"time"

	"github.com/pyship/pyship/internal/backup/schedule"
)

func ExampleCron_Next() {
	c, err := schedule.Parse("30 3 * * mon-fri")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Next(time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC))) // a Friday, after 03:30
	// Output: 2026-11-30 03:30:00 +0000 UTC
}

package backup

import (
	"fmt"
	"sort"
	"time"
)

// Snapshot is what retention needs to know about a backup.
type Snapshot struct {
	ID      string
	Created time.Time
}

// Decision is retention's verdict on one backup.
type Decision struct {
	ID      string
	Keep    bool
	Reasons []string // "last 1", "daily 2026-11-25", "weekly 2026-W48"
}

// Decide applies r to backups (any order) and returns a decision per backup, newest first.
// It keeps the newest r.Last backups, the newest backup of each of the r.Daily most recent
// days that have one, and of each of the r.Weekly most recent ISO weeks that have one
// (calendar days and weeks in loc). Everything else is to be deleted.
func Decide(backups []Snapshot, r Retention, loc *time.Location) []Decision {
	s := append([]Snapshot(nil), backups...)
	sort.SliceStable(s, func(i, j int) bool {
		if !s[i].Created.Equal(s[j].Created) {
			return s[i].Created.After(s[j].Created)
		}
		return s[i].ID > s[j].ID
	})
	out := make([]Decision, len(s))
	days, weeks := map[string]bool{}, map[string]bool{}
	for i, b := range s {
		d := Decision{ID: b.ID}
		if i < r.Last {
			d.Reasons = append(d.Reasons, fmt.Sprintf("last %d", i+1))
		}
		t := b.Created.In(loc)
		if day := t.Format("2006-01-02"); !days[day] && len(days) < r.Daily {
			days[day] = true
			d.Reasons = append(d.Reasons, "daily "+day)
		}
		y, w := t.ISOWeek()
		if week := fmt.Sprintf("%d-W%02d", y, w); !weeks[week] && len(weeks) < r.Weekly {
			weeks[week] = true
			d.Reasons = append(d.Reasons, "weekly "+week)
		}
		d.Keep = len(d.Reasons) > 0
		out[i] = d
	}
	return out
}

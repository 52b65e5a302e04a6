package backup

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	// Two backups a day from Nov 2 (Monday) to Nov 22 (Sunday): 42 backups.
	var all []Snapshot
	for d := 2; d <= 22; d++ {
		for _, h := range []int{3, 15} {
			all = append(all, Snapshot{ID: fmt.Sprintf("%02d-%02d", d, h), Created: day(d, h)})
		}
	}
	for _, tc := range []struct {
		name string
		r    Retention
		keep []string
	}{
		{"last 3", Retention{Last: 3}, []string{"22-15", "22-03", "21-15"}},
		{"daily 3", Retention{Daily: 3}, []string{"22-15", "21-15", "20-15"}},
		{"weekly 2", Retention{Weekly: 2}, []string{"22-15", "15-15"}},
		{"last 2 daily 2 weekly 3", Retention{Last: 2, Daily: 2, Weekly: 3}, []string{"22-15", "22-03", "21-15", "15-15", "08-15"}},
		{"more than there are", Retention{Last: 100}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var keep []string
			for _, d := range Decide(all, tc.r, time.UTC) {
				if d.Keep {
					keep = append(keep, d.ID)
				}
			}
			if tc.keep == nil {
				if len(keep) != len(all) {
					t.Fatalf("kept %d of %d", len(keep), len(all))
				}
				return
			}
			if !reflect.DeepEqual(keep, tc.keep) {
				t.Fatalf("kept %v, want %v", keep, tc.keep)
			}
		})
	}
	// Days follow the given time zone: 23:30 UTC on Nov 21 is Nov 22 in Berlin.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	s := []Snapshot{{ID: "a", Created: time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC)}, {ID: "b", Created: time.Date(2026, 11, 21, 22, 0, 0, 0, time.UTC)}}
	if d := Decide(s, Retention{Daily: 2}, berlin); !d[0].Keep || !d[1].Keep {
		t.Fatalf("Berlin days: %+v; want both kept (different days there)", d)
	}
	if d := Decide(s, Retention{Daily: 2}, time.UTC); !d[0].Keep || d[1].Keep {
		t.Fatalf("UTC days: %+v; want only the newer kept", d)
	}
}

func TestPrune(t *testing.T) {
	s := startS3(t)
	ctx := testCtx(t, 2*time.Minute)
	src := t.TempDir()
	writeFile(t, src+"/a", []byte("a"), 0o644)
	cfg, _ := testConfig(t, s, Source{Name: "data", Kind: KindDir, Path: src})
	clock := &stepClock{now: time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC), added: make(chan struct{}, 1)}
	c := newClient(t, cfg, WithClock(clock))
	var made []string
	for i := range 6 {
		clock.set(time.Date(2026, 11, 1+i/2, 3+12*(i%2), 0, 0, 0, time.UTC))
		m, err := c.Now(ctx, NowOptions{})
		must(t, err)
		made = append(made, m.ID)
	}
	// An interrupted backup's leftovers (object, no manifest), older than the newest backup.
	stale := newID(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), 1)
	must(t, c.store.Put(ctx, c.lay.object(stale, "data.tar.zst.age"), []byte("partial")))

	r := Retention{Last: 1, Daily: 2}
	dry, err := c.Prune(ctx, r, time.UTC, true)
	must(t, err)
	// Kept: made[5] (last 1, daily Nov 3), made[3] (daily Nov 2). Deleted: 4, 2, 1, 0.
	wantDeleted := []string{made[4], made[2], made[1], made[0]}
	if !reflect.DeepEqual(dry.Deleted, wantDeleted) || !reflect.DeepEqual(dry.Incomplete, []string{stale}) {
		t.Fatalf("dry run deletes %v and incomplete %v; want %v and [%s]", dry.Deleted, dry.Incomplete, wantDeleted, stale)
	}
	if l, _ := c.List(ctx); len(l.Backups) != 6 {
		t.Fatalf("dry run deleted something: %d backups left", len(l.Backups))
	}
	res, err := c.Prune(ctx, r, time.UTC, false)
	must(t, err)
	if !reflect.DeepEqual(res.Deleted, wantDeleted) {
		t.Fatalf("prune deleted %v, want %v", res.Deleted, wantDeleted)
	}
	l, err := c.List(ctx)
	must(t, err)
	if got := ids0(l); !reflect.DeepEqual(got, []string{made[5], made[3]}) || len(l.Incomplete) != 0 || l.Latest != made[5] {
		t.Fatalf("after prune: %v incomplete %v latest %q; want [%s %s], none, %s", got, l.Incomplete, l.Latest, made[5], made[3], made[5])
	}
	objs, err := c.store.List(ctx, c.lay.root())
	must(t, err)
	if len(objs) != 1+2*2 { // latest + 2 × (manifest + object)
		t.Fatalf("%d objects left, want 5: %+v", len(objs), objs)
	}
}

package schedule

import (
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ expr, after, want string }{
		{"* * * * *", "2026-11-25 10:00:30", "2026-11-25 10:01:00"},
		{"* * * * *", "2026-11-25 10:00:00", "2026-11-25 10:01:00"},
		{"@hourly", "2026-11-25 10:00:00", "2026-11-25 11:00:00"},
		{"@daily", "2026-11-25 10:00:00", "2026-11-26 00:00:00"},
		{"0 3 * * *", "2026-11-25 02:59:59", "2026-11-25 03:00:00"},
		{"0 3 * * *", "2026-11-25 03:00:00", "2026-11-26 03:00:00"},
		{"*/15 * * * *", "2026-11-25 10:16:00", "2026-11-25 10:30:00"},
		{"5-10/2 * * * *", "2026-11-25 10:07:00", "2026-11-25 10:09:00"},
		{"0 0,12 * * *", "2026-11-25 01:00:00", "2026-11-25 12:00:00"},
		{"30 2 * * mon-fri", "2026-11-27 03:00:00", "2026-11-30 02:30:00"}, // Fri → Mon
		{"0 0 * * 0", "2026-11-25 00:00:00", "2026-11-29 00:00:00"},        // 0 is Sunday
		{"@every 90m", "2026-11-25 10:00:00", "2026-11-25 11:30:00"},
		{"0 0 1 * *", "2026-11-25 00:00:00", "2026-12-01 00:00:00"},
		{"0 0 31 * *", "2026-11-25 00:00:00", "2026-12-31 00:00:00"},
		{"0 0 29 2 *", "2026-03-01 00:00:00", "2028-02-29 00:00:00"},
		{"0 0 13 * fri", "2026-11-25 00:00:00", "2026-11-27 00:00:00"}, // either day field
		{"@yearly", "2026-11-25 00:00:00", "2027-01-01 00:00:00"},
		{"0 0 30 2 *", "2026-01-01 00:00:00", "0001-01-01 00:00:00"}, // never
		{"0 12 * dec *", "2026-11-25 00:00:00", "2026-12-01 12:00:00"},
	} {
		c, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := c.Next(at(tc.after)); !got.Equal(at(tc.want)) {
			t.Errorf("%q after %s = %s, want %s", tc.expr, tc.after, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	// Each of these is refused by the Kubernetes API server as a CronJob schedule too: 7 as
	// Sunday (cron accepts it, robfig/cron does not), TZ prefixes and descriptors with spaces
	// around them (the API server does not trim a schedule) included.
	for _, expr := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
		"*/0 * * * *", "5-1 * * * *", "a * * * *", "@often", "* * * * * *", "0 0 * * 7", "CRON_TZ=UTC 0 3 * * *", "TZ=Europe/Paris 0 3 * * *",
		" @daily", "@daily ", "@every 1h ", "\t@hourly"} {
		if _, err := Parse(expr); err == nil {
			t.Errorf("Parse(%q) succeeded", expr)
		}
	}
}

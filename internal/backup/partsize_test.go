package backup

import "testing"

func TestPartSizeFor(t *testing.T) {
	const mib = 1 << 20
	cases := []struct{ base, sent, want int }{
		{5 * mib, 0, 5 * mib},
		{5 * mib, 999, 5 * mib},
		{5 * mib, 1000, 10 * mib},
		{5 * mib, 2500, 20 * mib},
		{5 * mib, 4999, 80 * mib},
		{5 * mib, 5000, 128 * mib}, // capped
		{5 * mib, 9999, 128 * mib},
		{512 * mib, 0, 512 * mib}, // a base above the cap stays
		{512 * mib, 5000, 512 * mib},
	}
	for _, c := range cases {
		if got := partSizeFor(c.base, c.sent); got != c.want {
			t.Errorf("partSizeFor(%d MiB, %d) = %d MiB, want %d MiB", c.base/mib, c.sent, got/mib, c.want/mib)
		}
	}
	// The default part size reaches past 700 GiB within S3's 10,000 parts.
	total := 0
	for n := range 10000 {
		total += partSizeFor(DefaultPartSize, n)
	}
	if total < 700<<30 {
		t.Errorf("10,000 parts hold %d GiB, want at least 700 GiB", total>>30)
	}
}

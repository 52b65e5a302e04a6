package kube

import "testing"

func TestLineDiff(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nb\nc\nd\ne\nF\ng\nh\ni\nj\n"
	want := "  c\n  d\n  e\n- f\n+ F\n  g\n  h\n  i\n"
	if got := lineDiff(a, b); got != want {
		t.Errorf("lineDiff:\n%s\nwant:\n%s", got, want)
	}
	if got := lineDiff("", "x\ny\n"); got != "+ x\n+ y\n" {
		t.Errorf("create: %q", got)
	}
	if got := lineDiff("a\n", "a\n"); got != "" {
		t.Errorf("no change: %q", got)
	}
	far := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n"
	farB := "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n"
	if got := lineDiff(far, farB); got != "- 1\n+ X\n  2\n  3\n  4\n@@\n  9\n  10\n  11\n- 12\n+ Y\n" {
		t.Errorf("two hunks:\n%s", got)
	}
}

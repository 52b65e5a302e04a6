package duration

import (
	"encoding/json"
	"testing"
	"time"
)

func TestJSONIsTheDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{90 * time.Second: `"1m30s"`, 12500 * time.Microsecond: `"12.5ms"`, 0: `"0s"`} {
		b, err := json.Marshal(Duration(d))
		if err != nil || string(b) != want {
			t.Errorf("%s: %s %v, want %s", d, b, err, want)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || time.Duration(back) != d {
			t.Errorf("%s read back as %s, %v", want, time.Duration(back), err)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte("90000000000"), &d); err == nil {
		t.Error("raw nanoseconds were read as a duration")
	}
}

package duration

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration as pyship's JSON output writes every duration: Go's duration
// string ("1m30s", "12.5ms", "0s"), which time.ParseDuration reads back, never raw
// nanoseconds.
type Duration time.Duration

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"1m30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Package rollout decides, with pure functions, the next step of a rolling, blue-green, canary or recreate deploy and drives any Target through those steps.
package rollout

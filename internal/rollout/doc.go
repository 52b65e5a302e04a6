// Package rollout decides, with pure functions, the next step of a rolling, blue-green or canary deploy and drives any Target through those steps.
package rollout

package image

// Event is a step of a build reported to a Progress callback.
type Event struct {
	// Step is "base", "deps", "app", "bytecode", "sbom", "push", "layout" or "tar".
	Step string
	// Message says what happened, e.g. "cached", "installed 14 packages".
	Message string
	// Digest and Bytes describe the layer or blob concerned, when there is one.
	Digest string
	Bytes  int64
	// Cached is true when the step was served from the cache or the blob already existed.
	Cached bool
	// Warning marks events the user should read.
	Warning bool
	// Total is set on in-flight events (e.g. an upload): Bytes of Total are done so far.
	// Such events repeat often; show them as a status, not as lines.
	Total int64
}

// Progress receives build events; it may be called from several goroutines at once.
type Progress func(Event)

func (p Progress) emit(e Event) {
	if p != nil {
		p(e)
	}
}

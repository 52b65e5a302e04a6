package plan

import "strings"

// monitor resolves the spec's [monitor] table: the window defaults to DefaultSLOWindow and the
// latency percentile to DefaultLatencyPercentile.
func (b *builder) monitor() {
	sm := b.sp.Monitor
	set := false
	for k := range b.sp.Positions {
		if strings.HasPrefix(k, "monitor.") {
			set = true
			break
		}
	}
	if !set {
		return
	}
	m := &Monitor{Window: sm.Window, Availability: sm.Availability, Local: sm.Local}
	if m.Local {
		b.ev("monitor.local", b.specEv("monitor.local", "spec [monitor] local"))
	}
	if m.Window == "" {
		m.Window = DefaultSLOWindow
		b.ev("monitor.window", def(""))
	} else {
		b.ev("monitor.window", b.specEv("monitor.window", "spec [monitor] window"))
	}
	if m.Availability > 0 {
		b.ev("monitor.availability", b.specEv("monitor.availability", "spec [monitor] availability"))
	}
	if sm.Latency > 0 {
		m.Latency = sm.Latency.String()
		b.ev("monitor.latency", b.specEv("monitor.latency", "spec [monitor] latency"))
		m.LatencyPercentile = sm.LatencyPercentile
		if m.LatencyPercentile == 0 {
			m.LatencyPercentile = DefaultLatencyPercentile
			b.ev("monitor.latencyPercentile", def(""))
		} else {
			b.ev("monitor.latencyPercentile", b.specEv("monitor.latency_percentile", "spec [monitor] latency_percentile"))
		}
	}
	if (m.Availability > 0 || m.Latency != "") && b.p.NotifyWebhook == "" {
		b.warnf("[monitor] objectives raise alerts, but no [notify] webhook is set: Alertmanager will send them nowhere; set [notify] webhook to receive them")
	}
	b.p.Monitor = m
}

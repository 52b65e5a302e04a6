package dashboard

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestSchema checks the JSON Grafana imports, read back generically (not through this
// package's structs): the fields Grafana needs, unique panel ids, panels that fit the 24-column
// grid without overlapping, and every panel, query and annotation on the datasource variable.
func TestSchema(t *testing.T) {
	for _, o := range []Options{{App: "shop"}, {App: "shop", Availability: true}, {App: "shop", Availability: true, Latency: true}} {
		t.Run(fmt.Sprintf("availability=%v,latency=%v", o.Availability, o.Latency), func(t *testing.T) {
			b, err := JSON(o)
			if err != nil {
				t.Fatal(err)
			}
			var d map[string]any
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatalf("the dashboard is not JSON: %v", err)
			}
			for _, f := range []string{"uid", "title", "schemaVersion", "panels", "templating", "annotations", "time"} {
				if d[f] == nil || d[f] == "" {
					t.Errorf("the dashboard lacks %s", f)
				}
			}
			if d["uid"] != UID(o.App) || d["id"] != nil {
				t.Errorf("uid %v, id %v: want the app's uid and no id (Grafana assigns it)", d["uid"], d["id"])
			}
			vars := d["templating"].(map[string]any)["list"].([]any)
			if len(vars) != 1 {
				t.Fatalf("variables %v, want the datasource one only", vars)
			}
			v := vars[0].(map[string]any)
			if v["name"] != "datasource" || v["type"] != "datasource" || v["query"] != "prometheus" {
				t.Errorf("the variable is %v, want a datasource variable of Prometheus data sources", v)
			}
			onVar := func(where string, ds any) {
				m, _ := ds.(map[string]any)
				if m["type"] != "prometheus" || m["uid"] != "${datasource}" {
					t.Errorf("%s: data source %v, want the ${datasource} variable", where, ds)
				}
			}
			ids := map[float64]bool{}
			var boxes [][4]int
			slo := 0
			for _, p := range d["panels"].([]any) {
				p := p.(map[string]any)
				title, _ := p["title"].(string)
				for _, f := range []string{"id", "type", "title", "gridPos", "datasource", "targets", "fieldConfig"} {
					if p[f] == nil {
						t.Errorf("panel %q lacks %s", title, f)
					}
				}
				id := p["id"].(float64)
				if ids[id] {
					t.Errorf("panel id %v is used twice", id)
				}
				ids[id] = true
				g := p["gridPos"].(map[string]any)
				box := [4]int{int(g["x"].(float64)), int(g["y"].(float64)), int(g["w"].(float64)), int(g["h"].(float64))}
				if box[0] < 0 || box[1] < 0 || box[2] <= 0 || box[3] <= 0 || box[0]+box[2] > 24 {
					t.Errorf("panel %q at %v leaves the 24-column grid", title, box)
				}
				for _, o := range boxes {
					if box[0] < o[0]+o[2] && o[0] < box[0]+box[2] && box[1] < o[1]+o[3] && o[1] < box[1]+box[3] {
						t.Errorf("panel %q at %v overlaps the panel at %v", title, box, o)
					}
				}
				boxes = append(boxes, box)
				if fc, _ := p["fieldConfig"].(map[string]any); fc["defaults"] == nil || fc["overrides"] == nil {
					t.Errorf("panel %q: fieldConfig %v lacks defaults or overrides (Grafana wants both, overrides a list)", title, fc)
				}
				onVar("panel "+title, p["datasource"])
				targets := p["targets"].([]any)
				if len(targets) == 0 {
					t.Errorf("panel %q has no query", title)
				}
				refs := map[string]bool{}
				for _, tg := range targets {
					tg := tg.(map[string]any)
					expr, _ := tg["expr"].(string)
					ref, _ := tg["refId"].(string)
					if ref == "" || refs[ref] {
						t.Errorf("panel %q: refId %q missing or repeated", title, ref)
					}
					refs[ref] = true
					onVar(fmt.Sprintf("panel %q query %s", title, ref), tg["datasource"])
					if !strings.Contains(expr, `app="shop"`) {
						t.Errorf("panel %q query %s does not select the app: %s", title, ref, expr)
					}
					if strings.Contains(expr, "pyship_slo:") {
						slo++
					}
				}
			}
			if (o.Availability || o.Latency) != (slo > 0) {
				t.Errorf("%d SLO queries with availability=%v latency=%v: SLO panels are shown only with objectives", slo, o.Availability, o.Latency)
			}
			anns := d["annotations"].(map[string]any)["list"].([]any)
			deploys := 0
			for _, a := range anns {
				a := a.(map[string]any)
				if e, _ := a["expr"].(string); strings.Contains(e, "pyship_release_started_timestamp_seconds") && strings.Contains(e, "pyship_release_info") {
					deploys++
					onVar("deploy annotations", a["datasource"])
				}
			}
			if deploys != 1 {
				t.Errorf("%d deploy annotations, want 1: %v", deploys, anns)
			}
		})
	}
}

// TestPanels: the panels the issue asks for are there, with the queries that answer them.
func TestPanels(t *testing.T) {
	d, err := New(Options{App: "shop", Availability: true, Latency: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Requests per second":        `rate({__name__=~"pyship_requests_total|pyship_proxy_errors_total"`,
		"5xx error rate":             `code=~"5.."`,
		"Latency p50 / p95 / p99":    `histogram_quantile(0.99, sum by (release, le) (rate(pyship_request_duration_seconds_bucket`,
		"Traffic weights":            `pyship_traffic_weight{`,
		"Ready replicas":             `pyship_replica_ready{`,
		"SLO error budget remaining": `pyship_slo:error_budget_remaining:ratio{`,
		"SLO burn rate":              `pyship_slo:sli_error:ratio_rate1h{`,
	}
	for _, p := range d.Panels {
		var all []string
		for _, tg := range p.Targets {
			all = append(all, tg.Expr)
		}
		if w, ok := want[p.Title]; ok {
			if !strings.Contains(strings.Join(all, "\n"), w) {
				t.Errorf("panel %q lacks %s in %v", p.Title, w, all)
			}
			delete(want, p.Title)
		}
	}
	for title := range want {
		t.Errorf("no panel %q", title)
	}
	if d, _ := New(Options{App: "shop", Latency: true}); !strings.Contains(d.Panels[len(d.Panels)-1].Targets[0].Expr, `slo=~"latency"`) {
		t.Errorf("with a latency objective only, the SLO panels select %s", d.Panels[len(d.Panels)-1].Targets[0].Expr)
	}
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "app name") {
		t.Errorf("no app: %v", err)
	}
}

// TestUID: the uid is the same on every run, fits Grafana's rules and differs between apps,
// including names that differ past the cut or only in characters Grafana refuses.
func TestUID(t *testing.T) {
	ok := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)
	long := strings.Repeat("a", 60)
	names := []string{"shop", "shop-api", "shop_api", "shop.api", "shop/api", "ünïcode", long, long + "b", "a"}
	seen := map[string]string{}
	for _, n := range names {
		u := UID(n)
		if !ok.MatchString(u) {
			t.Errorf("UID(%q) = %q breaks Grafana's uid rules", n, u)
		}
		if u != UID(n) {
			t.Errorf("UID(%q) is not deterministic", n)
		}
		if o, dup := seen[u]; dup {
			t.Errorf("UID(%q) = UID(%q) = %q", n, o, u)
		}
		seen[u] = n
	}
	if got := UID("shop"); len(got) != len("pyship-shop-")+8 || !strings.HasPrefix(got, "pyship-shop-") {
		t.Errorf("UID(shop) = %q, want it to read pyship-shop-…", got)
	}
}

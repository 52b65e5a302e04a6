package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWebhookPostsSlackJSONAndKeepsItsURLOutOfErrors(t *testing.T) {
	got := make(chan map[string]any, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &m)
		got <- m
		if strings.HasSuffix(r.URL.Path, "/gone") {
			w.WriteHeader(http.StatusGone)
		}
	}))
	defer srv.Close()
	if err := Webhook(context.Background(), srv.URL+"/services/T0/B0/secret", "hello", [][2]string{{"app", "shop"}}); err != nil {
		t.Fatal(err)
	}
	m := <-got
	if m["text"] != "hello" || !strings.Contains(mustJSON(m["attachments"]), `"title":"app"`) {
		t.Errorf("payload %v", m)
	}
	err := Webhook(context.Background(), srv.URL+"/services/T0/B0/gone", "x", nil)
	<-got
	if err == nil || !strings.Contains(err.Error(), "410") || strings.Contains(err.Error(), "services") {
		t.Errorf("a 410: %v (want the status, and not the URL's secret path)", err)
	}
	err = Webhook(context.Background(), "http://127.0.0.1:1/services/T0/B0/secret", "x", nil)
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("an unreachable webhook: %v (want its host, and not its secret path)", err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

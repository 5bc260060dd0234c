package httpserver

import (
	"net/http"

	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

// Mux routes /healthz, /readyz and /metrics to live, ready and metrics, and every other path to
// app; a nil operational handler leaves its path to app, and a nil app answers 404 problem+json.
func Mux(live, ready, metrics, app http.Handler) http.Handler {
	if app == nil {
		app = http.HandlerFunc(notFound)
	}
	routes := map[string]http.Handler{}
	for path, h := range map[string]http.Handler{"/healthz": live, "/readyz": ready, "/metrics": metrics} {
		if h != nil {
			routes[path] = h
		}
	}
	// A plain path switch rather than http.ServeMux: the app router sees requests unchanged,
	// with no path-cleaning redirects in between.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := routes[r.URL.Path]; ok {
			h.ServeHTTP(w, r)
			return
		}
		app.ServeHTTP(w, r)
	})
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	problem.Write(w, problem.New(http.StatusNotFound, "no such route"))
}

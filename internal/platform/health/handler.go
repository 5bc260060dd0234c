package health

import (
	"encoding/json"
	"net/http"
)

// LiveHandler answers 200 {"status":"ok"} for as long as the process can serve HTTP.
func LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": StatusOK})
	})
}

// ReadyHandler runs the checks per request and answers 200 with the Report when all are ok, or
// 503 with Retry-After: 5 and the Report otherwise.
func (c *Checker) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report := c.Run(r.Context())
		status := http.StatusOK
		if report.Status != StatusOK {
			w.Header().Set("Retry-After", "5")
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, report)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The client may have gone; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

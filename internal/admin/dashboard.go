package admin

import (
	_ "embed"
	"net/http"
)

// dashboardHTML is the whole dashboard: one page, inline CSS and JavaScript, charts drawn on
// <canvas> by hand. It loads nothing but stats.json (relative URL, so the endpoint can sit behind
// a path prefix).
//
//go:embed dashboard.html
var dashboardHTML []byte

// dashboardCSP forbids every external resource: the page works offline and cannot leak.
const dashboardCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) serveDashboard(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(dashboardHTML)
}

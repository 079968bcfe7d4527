package cluster

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// controller is what the control endpoint drives.
type controller interface {
	Status() Status
	StopServer(id string) error
}

// controlAddr returns where the control endpoint listens: master.json's host if it is a
// loopback name or address, else 127.0.0.1, with master.json's port. ok is false without a port.
func controlAddr(opts *Options) (addr string, ok bool) {
	m := opts.Master
	if m.Port == 0 {
		return "", false
	}
	host := m.Host
	if !isLoopback(host) {
		if host != "" {
			opts.Logger.Warn("cluster: master host is not a loopback address; the control endpoint listens on 127.0.0.1",
				"host", host)
		}
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(m.Port)), true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveControl starts the control endpoint (nil when master.json gives no port). stopAll is
// called on POST /stop without an id.
//
//	GET  /status          the Status as JSON
//	POST /stop            stop every server and end Run
//	POST /stop?id=<id>    stop one server (a master does not restart it)
func serveControl(opts *Options, c controller, stopAll func()) (*http.Server, error) {
	addr, ok := controlAddr(opts)
	if !ok {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c.Status())
	})
	mux.HandleFunc("POST /stop", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if id == "" {
			w.WriteHeader(http.StatusAccepted)
			stopAll()
			return
		}
		if err := c.StopServer(id); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, ErrUnknownServer) {
				code = http.StatusNotFound
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	opts.Logger.Info("cluster: control endpoint", "addr", ln.Addr().String(), "mode", opts.Mode.String())
	return srv, nil
}

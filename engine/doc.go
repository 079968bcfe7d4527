// Package engine is the application half of a pomelo frontend: sessions, the route → handler
// table, filters, error handlers, pushes and channels. The transport (package hybrid) hands it
// handshakes and DATA package bodies; it answers through the connection's outbound queue.
package engine

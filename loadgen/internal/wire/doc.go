// Package wire holds the client side of the pomelo protocol that the load generator needs on top of
// codec and hybrid/ws: the handshake request a client sends, the handshake response it reads (route
// dictionary, heartbeat, pomelo-protobuf descriptions in pomelo's parsed form), a top-level JSON
// field scanner for response codes and timestamps. The WebSocket side (opening handshake, masked
// frames) is hybrid/ws's. Everything is pure: no I/O, no goroutines, no package state.
//
// # Handshake, client side (protocol §3)
//
//	C→S  01 00 00 LL  {"sys":{"type":"js-websocket","version":"0.0.1",<extra sys>},"user":{...}}
//	S→C  01 00 LL LL  {"code":200,"sys":{"heartbeat":3,"dict":{route:code},"routeToCode":{...},
//	                   "codeToRoute":{"1":route},"protos":{"server":{...},"client":{...}}},"user":{...}}
//	C→S  02 00 00 00  handshake ACK
//
// ParseServer reads the response. The route dictionary is taken from sys.dict (what the JS and C#
// clients read), else sys.routeToCode (libpomelo2); codeToRoute is built from it when absent.
// Servers that assign codes freely (nano) are fine: codes are not assumed to be dense or sorted.
// Protos arrive in the parsed form (protocol §6.3) and are converted back to the description form
// that pomelopb.Parse reads (ParsedToDescription).

package wire

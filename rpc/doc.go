// Package rpc is the server-to-server side of the engine, the part of
// pomelo-rpc that a Go server needs to place calls the way pomelo does
// (protocol reference §10).
//
// # Default router
//
// When an application has not registered a route function for a server
// type, pomelo picks the target server of an RPC from the session's uid
// (protocol §10.6):
//
//	uid ──String()──> UTF-16 code units u0 u1 ... uk
//	                      │ low byte of each unit
//	                      v
//	                  IEEE CRC-32 ──> signed int32 h
//	                      │
//	index = |h| mod n     (n = servers of the target type, in the order
//	                       they were added; |h| computed without overflow)
//
// The checksum is the one npm crc@0.2.0 computes (its table lookup masks
// each character code to its low byte), so it equals the ordinary CRC-32
// only for text up to U+00FF. A session without a uid routes with "", whose
// checksum is 0, so unbound sessions always reach the first server.
// [CRC32JS] and [DefaultRoute] reproduce this bit for bit without
// allocating; a Go server and a Node server therefore send the same user to
// the same backend, provided they list the servers in the same order.
package rpc

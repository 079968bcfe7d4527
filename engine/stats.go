package engine

import "sync/atomic"

// counters are the server's live counters; only abnormal paths and pushes are counted, so the
// request fast path touches no shared cache line.
type counters struct {
	malformed, noDict, unknownCode, noDot, badRoute, attacks  atomic.Uint64
	badSignature, handlerErrors, errorResponses, encodeErrors atomic.Uint64
	forwarded, handshakeRefused                               atomic.Uint64
	forwardErrors, forwardedIn, remotePushes                  atomic.Uint64
	pushEncodes, pushTargets                                  atomic.Uint64
}

// Stats is a snapshot of a server's counters.
type Stats struct {
	Malformed        uint64 // DATA bodies that are not a request or notify message (dropped)
	NoDict           uint64 // compressed routes while useDict is off (dropped)
	UnknownCode      uint64 // compressed routes with a code not in the dictionary (dropped)
	NoDot            uint64 // routes without a '.' (dropped)
	BadRoute         uint64 // routes with a '.' but not three parts ({"code":500})
	Attacks          uint64 // routes whose method is "constructor" (session kicked "attack")
	BadSignature     uint64 // useCrypto: missing or bad __crypto__ (request answered {"code":500})
	HandlerErrors    uint64 // errors from local before filters and handlers
	ErrorResponses   uint64 // responses sent for an error
	EncodeErrors     uint64 // responses or pushes that did not encode
	Forwarded        uint64 // messages handed to the Forwarder or sent to another server type
	ForwardErrors    uint64 // forwards that failed in transport (no server, RPC error, timeout)
	ForwardedIn      uint64 // requests forwarded to this server by frontends
	RemotePushes     uint64 // channelRemote pushes and broadcasts served for other servers
	HandshakeRefused uint64 // handshakes answered 500 or 501
	PushEncodes      uint64 // push messages encoded (once per push, whatever the fan-out)
	PushTargets      uint64 // connections a push package was handed to
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Malformed: c.malformed.Load(), NoDict: c.noDict.Load(), UnknownCode: c.unknownCode.Load(),
		NoDot: c.noDot.Load(), BadRoute: c.badRoute.Load(), Attacks: c.attacks.Load(),
		BadSignature: c.badSignature.Load(), HandlerErrors: c.handlerErrors.Load(),
		ErrorResponses: c.errorResponses.Load(), EncodeErrors: c.encodeErrors.Load(),
		Forwarded: c.forwarded.Load(), HandshakeRefused: c.handshakeRefused.Load(),
		ForwardErrors: c.forwardErrors.Load(), ForwardedIn: c.forwardedIn.Load(),
		RemotePushes: c.remotePushes.Load(),
		PushEncodes:  c.pushEncodes.Load(), PushTargets: c.pushTargets.Load(),
	}
}

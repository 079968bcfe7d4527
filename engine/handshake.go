package engine

import (
	"encoding/json"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/hybrid"
)

// Handshake response codes (pomelo handshake.js).
const (
	CodeOK        = 200
	CodeUseError  = 500 // refused by the application, or a bad request
	CodeOldClient = 501 // checkClient said no
)

// HandshakeHook is the application's handshake hook (pomelo's connector option handshake): it
// sees the client's request and returns the "user" object of the response, or an error, which
// refuses the client with {"code":500}. It runs on the connection's read goroutine.
type HandshakeHook func(c Conn, req *hybrid.HandshakeRequest) (user json.RawMessage, err error)

// renderHandshake renders, once, the four variants of the "sys" members that follow "heartbeat":
// with or without the dictionary and with or without the protos, depending on the versions the
// client has cached. Key order is pomelo's.
func (s *Server) renderHandshake() {
	s.protoVer = pomelopb.Version(s.app.cfg.ClientProtos, s.app.cfg.ServerProtos)
	var dictFull, dictShort, protoFull, protoShort []byte
	if s.cfg.UseDict {
		dictShort = []byte(`"useDict":true`)
		d := append([]byte(nil), `"dict":`...)
		d = s.table.AppendRouteToCodeJSON(d)
		d = append(d, `,"routeToCode":`...)
		d = s.table.AppendRouteToCodeJSON(d)
		d = append(d, `,"codeToRoute":`...)
		d = s.table.AppendCodeToRouteJSON(d)
		d = append(d, `,"dictVersion":`...)
		d = appendJSONString(d, s.table.Version())
		dictFull = append(d, `,"useDict":true`...)
	}
	if s.cfg.UseProtobuf {
		protoShort = []byte(`"useProto":true`)
		p := append([]byte(nil), `"protos":{"server":`...)
		p = s.app.cfg.ServerProtos.AppendParsedJSON(p)
		p = append(p, `,"client":`...)
		p = s.app.cfg.ClientProtos.AppendParsedJSON(p)
		p = append(p, `,"version":`...)
		p = appendJSONString(p, s.protoVer)
		protoFull = append(p, `},"useProto":true`...)
	}
	for d, dp := range [2][]byte{dictShort, dictFull} {
		for p, pp := range [2][]byte{protoShort, protoFull} {
			var out []byte
			out = append(out, dp...)
			if len(dp) > 0 && len(pp) > 0 {
				out = append(out, ',')
			}
			s.sysExtra[d][p] = append(out, pp...)
		}
	}
}

// appendJSONString appends s as a JSON string (versions are base64, so no escaping is needed
// beyond what encoding/json does).
func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}

// handshake answers a client's handshake (pomelo handshake.js, steps 2 to 4).
func (s *Server) handshake(c Conn, req *hybrid.HandshakeRequest) hybrid.HandshakeResult {
	if s.opts.checkClient != nil && !s.opts.checkClient(req.Type, req.Version) {
		s.stats.handshakeRefused.Add(1)
		return hybrid.HandshakeResult{Code: CodeOldClient}
	}
	if s.cfg.UseCrypto && req.RSA == nil {
		s.stats.handshakeRefused.Add(1)
		s.log.Debug("engine: useCrypto and no usable sys.rsa in the handshake", "conn", c.ID())
		return hybrid.HandshakeResult{Code: CodeUseError}
	}
	d, p := 0, 0
	if s.cfg.UseDict && req.DictVersion != s.table.Version() {
		d = 1
	}
	if s.cfg.UseProtobuf && (req.ProtoVersion == "" || req.ProtoVersion != s.protoVer) {
		p = 1
	}
	res := hybrid.HandshakeResult{Code: CodeOK, SysExtra: s.sysExtra[d][p]}
	if s.opts.handshake != nil {
		user, err := s.opts.handshake(c, req)
		if err != nil {
			s.stats.handshakeRefused.Add(1)
			s.log.Debug("engine: handshake hook refused the client", "conn", c.ID(), "err", err)
			return hybrid.HandshakeResult{Code: CodeUseError}
		}
		res.User = user
	}
	return res
}

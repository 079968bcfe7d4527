package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
)

// Handshake errors.
var (
	ErrNotObject        = errors.New("wire: JSON value is not an object")
	ErrHandshakeRefused = errors.New("wire: handshake refused (code != 200)")
	ErrBadHandshake     = errors.New("wire: malformed handshake response")
)

// CodeOK is the code of a successful handshake and of a successful response.
const CodeOK = 200

// HandshakeRequest describes the JSON body of the client's HANDSHAKE package.
type HandshakeRequest struct {
	Type    string // sys.type, e.g. "js-websocket"
	Version string // sys.version, e.g. "0.0.1"
	// SysExtra is a JSON object whose members are added to sys after type and version, e.g.
	// {"rsa":{},"protoVersion":0}. Empty means none.
	SysExtra []byte
	// User is the JSON value sent as "user". Empty means {}.
	User []byte
}

// AppendJSON appends the handshake body:
// {"sys":{"type":T,"version":V,<SysExtra members>},"user":U}.
func (r *HandshakeRequest) AppendJSON(dst []byte) ([]byte, error) {
	tq, _ := json.Marshal(r.Type)
	vq, _ := json.Marshal(r.Version)
	out := append(dst, `{"sys":{"type":`...)
	out = append(append(append(out, tq...), `,"version":`...), vq...)
	if inner, err := objectMembers(r.SysExtra); err != nil {
		return dst, fmt.Errorf("sys extra: %w", err)
	} else if len(inner) > 0 {
		out = append(append(out, ','), inner...)
	}
	out = append(out, `},"user":`...)
	user := bytes.TrimSpace(r.User)
	if len(user) == 0 {
		user = []byte("{}")
	}
	if !json.Valid(user) {
		return dst, fmt.Errorf("user: %w", ErrBadJSON)
	}
	return append(append(out, user...), '}'), nil
}

// objectMembers returns the text between the braces of a JSON object (empty for "" or {}).
func objectMembers(obj []byte) ([]byte, error) {
	obj = bytes.TrimSpace(obj)
	if len(obj) == 0 {
		return nil, nil
	}
	if !json.Valid(obj) {
		return nil, ErrBadJSON
	}
	if obj[0] != '{' {
		return nil, ErrNotObject
	}
	return bytes.TrimSpace(obj[1 : len(obj)-1]), nil
}

// Server is what a client learns from a handshake response. It is immutable once returned and may
// be shared by every connection that received the same response bytes.
type Server struct {
	Code         int
	Heartbeat    time.Duration // 0: the server sends no heartbeats
	DictVersion  string
	ProtoVersion string
	User         json.RawMessage
	ClientProtos *pomelopb.Table // nil when the server sent none
	ServerProtos *pomelopb.Table // nil when the server sent none

	routeToCode map[string]uint16
	codeToRoute map[uint16][]byte
}

// RouteCode returns the dictionary code of route.
func (s *Server) RouteCode(route string) (uint16, bool) {
	c, ok := s.routeToCode[route]
	return c, ok
}

// RouteBytes returns the route of a dictionary code (codec.RouteTable). The bytes must not be
// modified.
func (s *Server) RouteBytes(code uint16) ([]byte, bool) {
	r, ok := s.codeToRoute[code]
	return r, ok
}

// DictLen returns the number of routes in the dictionary.
func (s *Server) DictLen() int { return len(s.routeToCode) }

type handshakeJSON struct {
	Code *int `json:"code"`
	Sys  struct {
		Heartbeat   *float64          `json:"heartbeat"`
		Dict        map[string]uint16 `json:"dict"`
		RouteToCode map[string]uint16 `json:"routeToCode"`
		CodeToRoute map[string]string `json:"codeToRoute"`
		DictVersion json.RawMessage   `json:"dictVersion"`
		Protos      *struct {
			Server  json.RawMessage `json:"server"`
			Client  json.RawMessage `json:"client"`
			Version json.RawMessage `json:"version"`
		} `json:"protos"`
	} `json:"sys"`
	User json.RawMessage `json:"user"`
}

// ParseServer parses the body of a handshake response. A well-formed response with a code other
// than 200 returns the Server (with Code set) and ErrHandshakeRefused.
func ParseServer(body []byte) (*Server, error) {
	var h handshakeJSON
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadHandshake, err)
	}
	if h.Code == nil {
		return nil, fmt.Errorf("%w: no code", ErrBadHandshake)
	}
	s := &Server{Code: *h.Code, User: h.User}
	if s.Code != CodeOK {
		return s, ErrHandshakeRefused
	}
	if hb := h.Sys.Heartbeat; hb != nil && *hb > 0 {
		s.Heartbeat = time.Duration(*hb * float64(time.Second))
	}
	s.DictVersion = rawString(h.Sys.DictVersion)
	if err := s.setDict(h.Sys.Dict, h.Sys.RouteToCode, h.Sys.CodeToRoute); err != nil {
		return nil, err
	}
	if p := h.Sys.Protos; p != nil {
		s.ProtoVersion = rawString(p.Version)
		var err error
		if s.ClientProtos, err = parseParsed(p.Client); err != nil {
			return nil, fmt.Errorf("%w: client protos: %v", ErrBadHandshake, err)
		}
		if s.ServerProtos, err = parseParsed(p.Server); err != nil {
			return nil, fmt.Errorf("%w: server protos: %v", ErrBadHandshake, err)
		}
	}
	return s, nil
}

func (s *Server) setDict(dict, routeToCode map[string]uint16, codeToRoute map[string]string) error {
	if dict == nil {
		dict = routeToCode
	}
	s.routeToCode = dict
	s.codeToRoute = make(map[uint16][]byte, len(dict))
	if len(codeToRoute) > 0 {
		for k, route := range codeToRoute {
			code, err := strconv.ParseUint(k, 10, 16)
			if err != nil {
				return fmt.Errorf("%w: codeToRoute key %q", ErrBadHandshake, k)
			}
			s.codeToRoute[uint16(code)] = []byte(route)
		}
		return nil
	}
	for route, code := range dict {
		s.codeToRoute[code] = []byte(route)
	}
	return nil
}

// rawString returns a JSON string's value, or the raw text of any other value (pomelo sends
// protoVersion 0 when it has none).
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}

func parseParsed(raw json.RawMessage) (*pomelopb.Table, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	desc, err := ParsedToDescription(raw)
	if err != nil {
		return nil, err
	}
	return pomelopb.Parse(desc)
}

package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// ErrConfigFile wraps errors about pomelo configuration files.
var ErrConfigFile = errors.New("engine: bad configuration file")

// ServerInfo is one entry of pomelo's config/servers.json. Fields pomelo passes around as strings
// (when a master starts servers with key=value arguments) are accepted as JSON strings or numbers
// and booleans.
type ServerInfo struct {
	ID             string
	Type           string // the key the entry is listed under
	Host           string
	Port           int // RPC port
	ClientHost     string
	ClientPort     int // client port (frontends)
	Frontend       bool
	MaxConnections int
	Args           string
	Raw            map[string]json.RawMessage // every field as written
}

// ClientAddr returns clientHost (or host) and clientPort as "host:port".
func (si *ServerInfo) ClientAddr() string {
	host := si.ClientHost
	if host == "" {
		host = si.Host
	}
	return host + ":" + strconv.Itoa(si.ClientPort)
}

// ParseServers parses config/servers.json and returns the servers of env by type, in file order
// within each type. An env missing from the file is an error.
func ParseServers(data []byte, env string) (map[string][]ServerInfo, error) {
	var all map[string]map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(trimBOM(data), &all); err != nil {
		return nil, fmt.Errorf("%w: servers.json: %w", ErrConfigFile, err)
	}
	byType, ok := all[env]
	if !ok {
		return nil, fmt.Errorf("%w: servers.json has no env %q", ErrConfigFile, env)
	}
	out := make(map[string][]ServerInfo, len(byType))
	for typ, list := range byType {
		for i, raw := range list {
			si, err := parseServerInfo(typ, raw)
			if err != nil {
				return nil, fmt.Errorf("%w: servers.json %s[%d]: %w", ErrConfigFile, typ, i, err)
			}
			out[typ] = append(out[typ], si)
		}
	}
	return out, nil
}

func parseServerInfo(typ string, raw map[string]json.RawMessage) (ServerInfo, error) {
	si := ServerInfo{Type: typ, Raw: raw}
	var err error
	str := func(key string) string {
		var s string
		if v, ok := raw[key]; ok && err == nil {
			if e := json.Unmarshal(v, &s); e != nil {
				err = fmt.Errorf("%s: %w", key, e)
			}
		}
		return s
	}
	num := func(key string) int {
		v, ok := raw[key]
		if !ok || err != nil {
			return 0
		}
		v = bytes.Trim(v, `"`)
		n, e := strconv.Atoi(string(v))
		if e != nil {
			err = fmt.Errorf("%s: %w", key, e)
		}
		return n
	}
	si.ID, si.Host, si.ClientHost, si.Args = str("id"), str("host"), str("clientHost"), str("args")
	si.Port, si.ClientPort, si.MaxConnections = num("port"), num("clientPort"), num("max-connections")
	if v, ok := raw["frontend"]; ok {
		s := string(bytes.Trim(v, `"`))
		si.Frontend = s == "true"
	}
	if err == nil && si.ID == "" {
		err = errors.New("no id")
	}
	return si, err
}

// MasterInfo is config/master.json's entry for one env.
type MasterInfo struct {
	ID   string `json:"id"`
	Host string `json:"host"`
	Port int    `json:"port"`
}

// ParseMaster parses config/master.json and returns the entry of env.
func ParseMaster(data []byte, env string) (MasterInfo, error) {
	var all map[string]MasterInfo
	if err := json.Unmarshal(trimBOM(data), &all); err != nil {
		return MasterInfo{}, fmt.Errorf("%w: master.json: %w", ErrConfigFile, err)
	}
	m, ok := all[env]
	if !ok {
		return MasterInfo{}, fmt.Errorf("%w: master.json has no env %q", ErrConfigFile, env)
	}
	return m, nil
}

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}) }

package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// ErrConfigFile wraps errors about pomelo configuration files.
var ErrConfigFile = errors.New("engine: bad configuration file")

// Names pomelo gives to servers expanded from a clusterCount entry (its constants CLUSTER_PREFIX
// and CLUSTER_SIGNAL).
const (
	clusterPrefix = "cluster-server-"
	clusterSignal = "++"
	// maxClusterCount bounds one entry's clusterCount (each copy needs its own ports).
	maxClusterCount = 4096
)

// ServerInfo is one entry of pomelo's config/servers.json. Fields pomelo passes around as strings
// (when a master starts servers with key=value arguments) are accepted as JSON strings or as
// numbers and booleans.
type ServerInfo struct {
	ID             string
	Type           string // the key the entry is listed under
	Host           string
	Port           int // RPC port
	ClientHost     string
	ClientPort     int // client port (frontends)
	Frontend       bool
	MaxConnections int
	// Args holds pomelo's "args": Node options for the server's process. A Go server has no use
	// for them; they are kept as written.
	Args string
	// CPU is the CPU list the server's process is pinned to, as `taskset -c` takes it ("1",
	// "0,2-3"); "" means not pinned.
	CPU string
	// AutoRestart asks the master to restart the server's process when it exits by itself.
	AutoRestart bool
	// RestartForce is pomelo's "restart-force": restart as with AutoRestart, even when the
	// server's ports are still taken.
	RestartForce bool
	// ClusterCount is the clusterCount of the entry this server was expanded from (0 for a plain
	// entry). The copies' Raw has no clusterCount member.
	ClusterCount int
	Raw          map[string]json.RawMessage // every field as written (after clusterCount expansion)
}

// ClientAddr returns clientHost (or host) and clientPort as "host:port".
func (si *ServerInfo) ClientAddr() string {
	host := si.ClientHost
	if host == "" {
		host = si.Host
	}
	return host + ":" + strconv.Itoa(si.ClientPort)
}

// RPCAddr returns host and port (the RPC acceptor's address) as "host:port".
func (si *ServerInfo) RPCAddr() string { return si.Host + ":" + strconv.Itoa(si.Port) }

// ParseServers parses config/servers.json and returns the servers of env by type, in file order
// within each type. An env missing from the file is an error. ParseServerList keeps the order of
// the types too.
func ParseServers(data []byte, env string) (map[string][]ServerInfo, error) {
	list, err := ParseServerList(data, env)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]ServerInfo)
	for _, si := range list {
		out[si.Type] = append(out[si.Type], si)
	}
	return out, nil
}

// ParseServerList parses config/servers.json and returns the servers of env in file order: the
// types in the order they are written, the entries of each type in order. That is the order in
// which a pomelo master starts them and in which pomelo's default router indexes them. An entry
// with clusterCount n is replaced, in place, by n servers named cluster-server-<type>-<k> (k
// counting per type from 0 across entries), whose fields written as "<number>++" count up from
// that number, as pomelo expands them. An env missing from the file, an entry without id, a
// duplicate id and a field of the wrong kind are errors.
func ParseServerList(data []byte, env string) ([]ServerInfo, error) {
	top, err := topLevel(data, "servers.json")
	if err != nil {
		return nil, err
	}
	section, ok := top[env]
	if !ok {
		return nil, fmt.Errorf("%w: servers.json has no env %q", ErrConfigFile, env)
	}
	return parseServerTypes(section)
}

// LoadServers reads the servers of env from a pomelo config directory as pomelo does:
// servers.json, using its env section when it has one and the whole file (types at the top
// level) otherwise; without servers.json, <env>/servers.json as a whole. The order is
// ParseServerList's.
func LoadServers(fsys fs.FS, env string) ([]ServerInfo, error) {
	data, whole, err := readEnvFile(fsys, env, "servers.json")
	if err != nil {
		return nil, err
	}
	if whole {
		return parseServerTypes(trimBOM(data))
	}
	top, err := topLevel(data, "servers.json")
	if err != nil {
		return nil, err
	}
	if section, ok := top[env]; ok {
		return parseServerTypes(section)
	}
	list, err := parseServerTypes(trimBOM(data))
	if err != nil {
		return nil, fmt.Errorf("%w (servers.json has no env %q, so it was read as the list of server types)", err, env)
	}
	return list, nil
}

// readEnvFile returns config file name, or <env>/name when name does not exist (whole is then
// true: the file has no env sections).
func readEnvFile(fsys fs.FS, env, name string) (data []byte, whole bool, err error) {
	data, err = fs.ReadFile(fsys, name)
	if err == nil {
		return data, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	data, err2 := fs.ReadFile(fsys, path.Join(env, name))
	if err2 != nil {
		return nil, false, fmt.Errorf("%w: neither %s nor %s/%s: %w", ErrConfigFile, name, env, name, err)
	}
	return data, true, nil
}

// topLevel splits a JSON object into its members.
func topLevel(data []byte, file string) (map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimBOM(data), &top); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfigFile, file, err)
	}
	return top, nil
}

// parseServerTypes parses {"<type>": [entries], ...} keeping the order of types and entries.
func parseServerTypes(section []byte) ([]ServerInfo, error) {
	dec := json.NewDecoder(bytes.NewReader(section))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("%w: servers.json: env section: %w", ErrConfigFile, err)
	}
	var list []ServerInfo
	seq := make(map[string]int) // clusterCount servers named so far, per type
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: servers.json: %w", ErrConfigFile, err)
		}
		typ, _ := tok.(string) // inside an object, More() means a key: always a string
		if _, dup := seq[typ]; dup {
			return nil, fmt.Errorf("%w: servers.json: type %q listed twice", ErrConfigFile, typ)
		}
		seq[typ] = 0
		var entries []map[string]json.RawMessage
		if err := dec.Decode(&entries); err != nil {
			return nil, fmt.Errorf("%w: servers.json %s: %w", ErrConfigFile, typ, err)
		}
		for i, raw := range entries {
			expanded, count, err := expandCluster(typ, raw, seq)
			if err != nil {
				return nil, fmt.Errorf("%w: servers.json %s[%d]: %w", ErrConfigFile, typ, i, err)
			}
			for _, r := range expanded {
				si, err := parseServerInfo(typ, r)
				if err != nil {
					return nil, fmt.Errorf("%w: servers.json %s[%d]: %w", ErrConfigFile, typ, i, err)
				}
				si.ClusterCount = count
				list = append(list, si)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fmt.Errorf("%w: servers.json: %w", ErrConfigFile, err)
	}
	seen := make(map[string]bool, len(list))
	for _, si := range list {
		if seen[si.ID] {
			return nil, fmt.Errorf("%w: servers.json: id %q listed twice", ErrConfigFile, si.ID)
		}
		seen[si.ID] = true
	}
	return list, nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("got %v, want %q", tok, d)
	}
	return nil
}

// expandCluster returns the entries a servers.json entry stands for: itself, or clusterCount
// copies as pomelo's loadCluster makes them (count is then their number, else 0). seq counts
// the copies made so far per type.
func expandCluster(typ string, raw map[string]json.RawMessage, seq map[string]int) (_ []map[string]json.RawMessage, count int, _ error) {
	v, ok := raw["clusterCount"]
	if !ok {
		return []map[string]json.RawMessage{raw}, 0, nil
	}
	count, err := jsonInt(v)
	if err != nil || count < 0 || count > maxClusterCount {
		return nil, 0, fmt.Errorf("clusterCount %s: not a count in [0, %d]", v, maxClusterCount)
	}
	if count == 0 { // pomelo tests the field for truth: 0 is a plain entry
		return []map[string]json.RawMessage{raw}, 0, nil
	}
	bases := make(map[string]int)
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil || strings.Index(s, clusterSignal) <= 0 {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s[:len(s)-len(clusterSignal)]))
		if err != nil {
			return nil, 0, fmt.Errorf("%s %q: want <number>%s", k, s, clusterSignal)
		}
		bases[k] = n
	}
	out := make([]map[string]json.RawMessage, count)
	for i := range out {
		c := make(map[string]json.RawMessage, len(raw)+1)
		for k, v := range raw {
			c[k] = v
		}
		delete(c, "clusterCount") // a copy is a plain server (passed on as it is, it must not expand again)
		id, _ := json.Marshal(clusterPrefix + typ + "-" + strconv.Itoa(seq[typ]+i))
		c["id"] = id
		for k, base := range bases {
			c[k] = json.RawMessage(strconv.Itoa(base + i))
		}
		out[i] = c
	}
	seq[typ] += count
	return out, count, nil
}

// jsonInt reads a JSON number or a string holding an integer.
func jsonInt(v json.RawMessage) (int, error) {
	return strconv.Atoi(strings.TrimSpace(string(bytes.Trim(v, `"`))))
}

// jsonBool reads true/false or "true"/"false"; anything else is false, as pomelo's tests
// (=== 'true' || === true) treat it.
func jsonBool(v json.RawMessage) bool {
	s := string(bytes.Trim(v, `"`))
	return s == "true"
}

func parseServerInfo(typ string, raw map[string]json.RawMessage) (ServerInfo, error) {
	si := ServerInfo{Type: typ, Raw: raw}
	var err error
	str := func(key string) string {
		v, ok := raw[key]
		if !ok || err != nil {
			return ""
		}
		var s string
		if e := json.Unmarshal(v, &s); e == nil {
			return s
		}
		// A number (cpu: 1) is taken as its text.
		var n json.Number
		if e := json.Unmarshal(v, &n); e != nil {
			err = fmt.Errorf("%s: want a string, got %s", key, v)
		}
		return n.String()
	}
	num := func(key string) int {
		v, ok := raw[key]
		if !ok || err != nil {
			return 0
		}
		n, e := jsonInt(v)
		if e != nil {
			err = fmt.Errorf("%s: %w", key, e)
		}
		return n
	}
	si.ID, si.Host, si.ClientHost, si.Args, si.CPU = str("id"), str("host"), str("clientHost"), str("args"), str("cpu")
	si.Port, si.ClientPort, si.MaxConnections = num("port"), num("clientPort"), num("max-connections")
	si.Frontend = jsonBool(raw["frontend"])
	si.AutoRestart = jsonBool(raw["auto-restart"])
	si.RestartForce = jsonBool(raw["restart-force"])
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

// Addr returns host and port as "host:port".
func (m *MasterInfo) Addr() string { return m.Host + ":" + strconv.Itoa(m.Port) }

// ParseMaster parses config/master.json and returns the entry of env. The port may be a number
// or a string.
func ParseMaster(data []byte, env string) (MasterInfo, error) {
	top, err := topLevel(data, "master.json")
	if err != nil {
		return MasterInfo{}, err
	}
	section, ok := top[env]
	if !ok {
		return MasterInfo{}, fmt.Errorf("%w: master.json has no env %q", ErrConfigFile, env)
	}
	return parseMaster(section)
}

// LoadMaster reads the master of env from a pomelo config directory as LoadServers reads the
// servers: master.json's env section, or the whole file; else <env>/master.json.
func LoadMaster(fsys fs.FS, env string) (MasterInfo, error) {
	data, whole, err := readEnvFile(fsys, env, "master.json")
	if err != nil {
		return MasterInfo{}, err
	}
	if !whole {
		top, err := topLevel(data, "master.json")
		if err != nil {
			return MasterInfo{}, err
		}
		if section, ok := top[env]; ok {
			return parseMaster(section)
		}
	}
	return parseMaster(trimBOM(data))
}

func parseMaster(section []byte) (MasterInfo, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(section, &raw); err != nil {
		return MasterInfo{}, fmt.Errorf("%w: master.json: %w", ErrConfigFile, err)
	}
	var m MasterInfo
	for key, dst := range map[string]*string{"id": &m.ID, "host": &m.Host} {
		if v, ok := raw[key]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return MasterInfo{}, fmt.Errorf("%w: master.json %s: %w", ErrConfigFile, key, err)
			}
		}
	}
	if v, ok := raw["port"]; ok {
		n, err := jsonInt(v)
		if err != nil {
			return MasterInfo{}, fmt.Errorf("%w: master.json port: %w", ErrConfigFile, err)
		}
		m.Port = n
	}
	return m, nil
}

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}) }

package cluster

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shaddock-io/shaddock/engine"
)

// ParseArgs reads pomelo-style key=value arguments: what a master appends to the command line
// of each server it starts (env, serverType, id and every field of the server's entry), and what
// pomelo's CLI passes to a master (env, type, startId). A later key overrides an earlier one.
// An argument without '=' or with an empty key is an error.
func ParseArgs(args []string) (map[string]string, error) {
	kv := make(map[string]string, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q (want key=value)", ErrArgs, a)
		}
		kv[k] = v
	}
	return kv, nil
}

// serverArgs returns the key=value arguments naming si, as a pomelo master writes them: env,
// then serverType and id, then every other field of the entry in key order. Strings are written
// without quotes, other values as their JSON text. A field whose name is empty or holds '=' or
// a NUL byte cannot travel as key=value and is left out.
func serverArgs(env string, si engine.ServerInfo) []string {
	out := []string{"env=" + env, "serverType=" + si.Type, "id=" + si.ID}
	for _, k := range slices.Sorted(maps.Keys(si.Raw)) {
		if k == "id" || k == "serverType" || k == "env" || k == "" || strings.ContainsAny(k, "=\x00") {
			continue
		}
		out = append(out, k+"="+argValue(si.Raw[k]))
	}
	return out
}

func argValue(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

package hybrid

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// blacklist is an immutable set of addresses and prefixes, swapped whole through an atomic
// pointer in the Server.
type blacklist struct {
	addrs    map[netip.Addr]struct{}
	prefixes []netip.Prefix
}

// parseBlacklist parses IP addresses and CIDR prefixes. An empty list gives nil.
func parseBlacklist(list []string) (*blacklist, error) {
	if len(list) == 0 {
		return nil, nil
	}
	b := &blacklist{addrs: make(map[netip.Addr]struct{})}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("blacklist entry %q: %v", s, err)
			}
			b.prefixes = append(b.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("blacklist entry %q: %v", s, err)
		}
		b.addrs[a.Unmap()] = struct{}{}
	}
	return b, nil
}

// contains reports whether a is listed. A nil blacklist lists nothing.
func (b *blacklist) contains(a netip.Addr) bool {
	if b == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if _, ok := b.addrs[a]; ok {
		return true
	}
	for _, p := range b.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrOf extracts the IP of a remote address.
func addrOf(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	case nil:
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

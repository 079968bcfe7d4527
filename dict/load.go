package dict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// ErrBadDictionaryFile is returned by ParseDictionaryFile and LoadFile when
// the content is not a JSON array of strings.
var ErrBadDictionaryFile = errors.New("dict: dictionary file is not a JSON array of strings")

// utf8BOM is skipped at the start of a file, as Node's require does for
// .json files.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// LoadFile reads pomelo's config/dictionary.json (a JSON array of route
// strings) and returns its entries in file order, ready to pass to Build as
// userDict. A missing file is an error wrapping fs.ErrNotExist; pomelo
// treats it as an empty list, and callers that want the same should check
// for it with errors.Is.
func LoadFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dict: %w", err)
	}
	entries, err := ParseDictionaryFile(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return entries, nil
}

// ParseDictionaryFile parses the content of a dictionary.json file. The
// literal null yields an empty list; anything other than an array of
// strings (including an array holding null or a number, which pomelo would
// turn into the routes "null" or "5") is an error wrapping
// ErrBadDictionaryFile.
//
// Strings are decoded by encoding/json, which replaces invalid UTF-8 and
// escaped lone surrogates ("\ud800") with U+FFFD, where Node would keep a
// lone surrogate; such a route cannot round-trip through a Go string.
func ParseDictionaryFile(data []byte) ([]string, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	var raw []*string // a nil element is a JSON null, which we refuse
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDictionaryFile, err)
	}
	entries := make([]string, len(raw))
	for i, p := range raw {
		if p == nil {
			return nil, fmt.Errorf("%w: entry %d is null", ErrBadDictionaryFile, i)
		}
		entries[i] = *p
	}
	return entries, nil
}

// Package dict is pomelo's route dictionary: an immutable two-way table
// between route strings and the 16-bit codes that replace them on the wire
// when a message has its route-compressed flag set.
//
// # Code assignment
//
// A table is built once from two lists, exactly as pomelo 2.2.7
// (lib/components/dictionary.js) builds its dictionary:
//
//	code   1 .. n                          n+1 .. n+m
//	      +--------------------------------+------------------------------+
//	route | handler routes, sorted with    | config/dictionary.json       |
//	      | JavaScript's default sort      | entries, in file order       |
//	      | (UTF-16 code-unit order)       | (usually push routes)        |
//	      +--------------------------------+------------------------------+
//
// Code 0 is never used. Codes travel as two big-endian bytes, so a table
// holds at most 65535 routes ([MaxCode]).
//
// The sort is JavaScript's, not Go's: strings are compared as sequences of
// UTF-16 code units. For ASCII, and in fact for any two strings whose first
// difference lies between characters of the same UTF-16 length, that is
// byte order. It differs from Go's byte order when a character above U+FFFF
// (two code units, a surrogate pair starting at 0xD800..0xDBFF) meets a
// character in U+E000..U+FFFF (one code unit, 0xE000..0xFFFF): JavaScript
// puts the supplementary character first, Go's byte order puts it last.
//
// # Duplicates and other refusals
//
// Pomelo silently overwrites: a route that appears twice keeps the last
// code in its route-to-code map while the earlier code still maps back to
// it, so the two directions disagree. [Build] refuses instead and returns
// [ErrDuplicateRoute], whether the duplicate is between two handler routes,
// between a handler route and a dictionary.json entry, or inside
// dictionary.json. It also refuses routes that pomelo's JavaScript objects
// could not hold faithfully ([ErrInvalidRoute]): strings that are not valid
// UTF-8 (a JavaScript string is UTF-16; Go strings cannot carry lone
// surrogates, and invalid UTF-8 would be replaced by U+FFFD on the way to a
// client, so the client would hold a different route), and "__proto__",
// which a plain JavaScript object swallows instead of storing.
//
// # Handshake JSON and versioning
//
// The handshake response carries the table three times (protocol §3.4):
// sys.dict and sys.routeToCode (the same route-to-code object) and
// sys.codeToRoute, plus sys.dictVersion. The table renders both objects
// once, at build time, byte for byte as JSON.stringify renders pomelo's
// objects:
//
//	routeToCode  {"area.Z.b":1,"area.a.B":2,...,"onChat":7}
//	codeToRoute  {"1":"area.Z.b","2":"area.a.B",...,"7":"onChat"}
//
// Key order is JavaScript's own-property order: keys that are array indices
// (canonical decimal integers up to 4294967294) come first in ascending
// numeric order, then the other keys in insertion order. For codeToRoute
// every key is an index, so the order is ascending code order; for
// routeToCode it is code order unless a route looks like a number (a route
// "7" would move to the front). Strings are escaped as JSON.stringify
// escapes them: \" and \\, \b \f \n \r \t, other control characters as
// \u00XX with lowercase hex; everything else, including '<', '>', '&',
// U+2028, U+2029 and all non-ASCII text, is written as raw UTF-8. (Lone
// surrogates, which JSON.stringify writes as \udXXX, cannot occur in a Go
// string that passed the UTF-8 check.)
//
// The version is base64 (standard alphabet, padded) of the MD5 of the
// routeToCode JSON text:
//
//	dictVersion = base64(md5(routeToCode JSON))
//
// A client that presents the same dictVersion in its handshake already has
// the table and is not sent it again. Because the text is byte-identical to
// pomelo's, a Go server and a Node server built from the same routes
// produce the same version and can share cached clients.
//
// # Use
//
// A *Table is immutable once [Build] returns it and is safe for concurrent
// use by any number of goroutines. To change the dictionary, build a new
// table and publish it (for example through an atomic.Pointer); holders of
// the old table keep a consistent view. A nil *Table behaves as an empty
// dictionary: every lookup misses and its JSON is "{}".
//
// Lookups in both directions are O(1) and do not allocate: codes index a
// slice, routes index a map (Code takes the route as a []byte and looks it
// up with m[string(b)], which Go performs without a copy).
package dict

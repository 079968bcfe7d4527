// Package interop runs the OFFICIAL pomelo JS client — the browser client bundled in npm
// pomelo@2.2.7, unchanged (official-client.js loads it into a Node vm with ws as its WebSocket) —
// against the chat demo: its connector and chat server started in this process on free ports
// (interop.js: handshake, entry, echo, heartbeats; official-test.js, unchanged: two clients,
// onAdd, chat.chatHandler.send and its onChat push through the chat server, the backend echo).
//
// Install the pinned dependencies (no lockfile is committed), then run the test:
//
//	cd interop && npm install --no-package-lock --no-audit --no-fund
//	SHADDOCK_INTEROP=1 go test ./interop/
//
// Without interop/node_modules the test skips, unless SHADDOCK_INTEROP=1 is set (scripts/test.sh
// sets it after installing), in which case it fails.
package interop

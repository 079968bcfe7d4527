// Package chatapp is the chat demo (docs/chat-demo.md) as a library: its handlers for every
// server type, and the construction of its connector from the pomelo configuration files. The
// command in the parent directory starts it; tests and tools start it in-process.
//
// This version runs the connector alone. connector.entryHandler.entry and .enter work without a
// chat backend: the room is a channel local to the connector, onAdd and onLeave are pushed from
// it. The chat.chatHandler.* routes belong to the chat server type; until the RPC layer provides a
// Forwarder they are answered {"code":500}.
package chatapp

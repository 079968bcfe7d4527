package engine_test

import (
	"encoding/json"
	"fmt"

	"github.com/shaddock-io/shaddock/engine"
)

type entryRequest struct {
	Username string `json:"username"`
	Rid      string `json:"rid"`
}

type entryResponse struct {
	Code  int      `json:"code"`
	Users []string `json:"users"`
}

// Handlers of every server type are registered on one App; the dictionary numbers them as pomelo
// does (sorted routes, then dictionary.json), whichever server will run them.
func Example() {
	app, err := engine.NewApp(engine.AppConfig{Dictionary: []string{"onChat"}})
	if err != nil {
		panic(err)
	}
	echo := func(_ *engine.Context, req *json.RawMessage) (*json.RawMessage, error) { return req, nil }
	_ = engine.Handle(app, "connector.entryHandler.echo", echo)
	_ = engine.Handle(app, "connector.entryHandler.entry",
		func(ctx *engine.Context, req *entryRequest) (*entryResponse, error) {
			if err := ctx.Session().Bind(req.Username + "*" + req.Rid); err != nil {
				return &entryResponse{Code: 500, Users: []string{}}, nil
			}
			return &entryResponse{Code: 200, Users: []string{req.Username}}, nil
		})
	_ = engine.Handle(app, "chat.chatHandler.send", echo) // runs on chat servers

	srv, err := app.NewServer(engine.ServerConfig{ID: "connector-server-1", Type: "connector", UseDict: true})
	if err != nil {
		panic(err)
	}
	for code, route := range srv.Dictionary().All() {
		fmt.Println(code, route)
	}
	// Output:
	// 1 chat.chatHandler.send
	// 2 connector.entryHandler.echo
	// 3 connector.entryHandler.entry
	// 4 onChat
}

package dict_test

import (
	"fmt"

	"github.com/shaddock-io/shaddock/dict"
)

func Example() {
	// Handler routes in any order, then config/dictionary.json (push routes).
	tab, err := dict.Build(
		[]string{"connector.entryHandler.entry", "chat.chatHandler.send"},
		[]string{"onChat"},
	)
	if err != nil {
		panic(err)
	}
	code, _ := tab.CodeString("onChat")
	route, _ := tab.Route(1)
	fmt.Println(code, route)
	fmt.Printf("%s\n", tab.RouteToCodeJSON())
	fmt.Printf("%s\n", tab.CodeToRouteJSON())
	fmt.Println(tab.Version())

	_, err = dict.Build([]string{"chat.chatHandler.send"}, []string{"chat.chatHandler.send"})
	fmt.Println(err)
	// Output:
	// 3 chat.chatHandler.send
	// {"chat.chatHandler.send":1,"connector.entryHandler.entry":2,"onChat":3}
	// {"1":"chat.chatHandler.send","2":"connector.entryHandler.entry","3":"onChat"}
	// 74uFRwNnIxWEBdy4AcoiiA==
	// dict: duplicate route "chat.chatHandler.send": handler route (code 1) and dictionary entry 0 (code 2)
}

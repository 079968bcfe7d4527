package cluster

import "github.com/shaddock-io/shaddock/engine"

// engineServer is the default NewServerFunc: app.NewClusterServer with the options of self.
func engineServer(app *engine.App, opts func(engine.ServerInfo) []engine.ServerOption) NewServerFunc {
	return func(self engine.ServerInfo, all []engine.ServerInfo) (Server, error) {
		var o []engine.ServerOption
		if opts != nil {
			o = opts(self)
		}
		return app.NewClusterServer(self, all, o...)
	}
}

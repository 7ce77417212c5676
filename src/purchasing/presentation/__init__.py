"""How things are put to people, apart from the web: the wording of changes, and the view models
pages and partials render (also built by the designers' gallery, which knows nothing of the web
layer)."""

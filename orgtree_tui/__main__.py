from orgtree_tui.main import main

raise SystemExit(main())

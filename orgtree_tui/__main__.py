from orgtree_tui.cli import main

raise SystemExit(main())

from one_libvirt.cli import main

raise SystemExit(main())

from homelab_kit.cli import main

main()

from innerchild_audio.cli import main

main()

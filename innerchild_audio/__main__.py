from innerchild_audio.entry import run

run()

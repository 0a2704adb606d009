// A recording (`lvslab classroom --replay`): the live controls (send, burst, fail, the
// weights and schedulers of the service table) are off, with the server's sentence on why,
// and the page starts paused on the first event, to be stepped as Packet Tracer steps its
// event list.

/** The buttons that act on a lab. */
const LIVE_CONTROLS = ["send", "burst", "fail"];

/** Turns the page into a recording's; true when it is one. */
export function showRecording(recording: string | null): boolean {
  if (!recording) return false;
  document.body.classList.add("recording");
  for (const id of LIVE_CONTROLS) {
    const b = document.getElementById(id) as HTMLButtonElement | null;
    if (!b) continue;
    b.disabled = true;
    b.title = recording;
  }
  let note = document.getElementById("recording");
  if (!note) {
    note = document.createElement("p");
    note.id = "recording";
    document.getElementById("explanation")?.before(note);
  }
  note.textContent = recording;
  return true;
}

/** post()'s finally turns buttons back on: a recording keeps them off. */
export function isRecording(): boolean {
  return document.body.classList.contains("recording");
}

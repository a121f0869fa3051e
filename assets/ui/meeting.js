// A meeting page's answers, kept current: the node tells the page by
// server-sent events that something arrived; the page fetches its answers
// fragment again (rendered and escaped by the server) and says so in a
// polite live region. Loaded from the node (CSP script-src 'self').
"use strict";

(function () {
  const answers = document.getElementById("meeting-answers");
  const status = document.getElementById("live-status");
  if (!answers || !status || !window.EventSource) return;

  const say = (key) => { status.textContent = status.dataset[key] || ""; };

  async function refresh() {
    const response = await fetch(answers.dataset.src, { credentials: "same-origin" });
    if (response.redirected || !response.ok) {
      window.location.assign("/login?ended=ended");
      return;
    }
    answers.innerHTML = await response.text();
    say("new");
  }

  const events = new EventSource("/events");
  events.addEventListener("open", () => say("on"));
  events.addEventListener("error", () => say("off"));
  events.addEventListener("inbox", () => { refresh().catch(() => say("off")); });
  events.addEventListener("ended", (event) => {
    events.close();
    const reason = ["idle", "expired"].includes(event.data) ? event.data : "ended";
    window.location.assign(`/login?ended=${reason}`);
  });
})();

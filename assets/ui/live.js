// Live inbox: the node tells this page, by server-sent events, that
// something arrived; the page fetches the rows again (the server renders and
// escapes them) and says so in a polite live region. No inline script: the
// page loads this file from the node (Content-Security-Policy script-src 'self').
"use strict";

(function () {
  const rows = document.getElementById("inbox-rows");
  const status = document.getElementById("live-status");
  if (!rows || !status || !window.EventSource) return;

  const say = (key) => { status.textContent = status.dataset[key] || ""; };

  async function refresh() {
    const response = await fetch("/inbox/rows", { credentials: "same-origin" });
    if (response.redirected || !response.ok) {
      window.location.assign("/login?ended=ended");
      return;
    }
    rows.innerHTML = await response.text();
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

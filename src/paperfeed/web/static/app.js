// paperfeed: progressive enhancement only; every page works without this file.
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // Vote in place: the form posts as usual, but asks for JSON and updates the button.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("vote-form")) return;
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch(form.getAttribute("action"), {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrf() },
      });
      if (!response.ok) { form.submit(); return; }
      const result = await response.json();
      // The same paper may be shown twice on a page (a card and its related list).
      document.querySelectorAll(`form.vote-form[action="${form.getAttribute("action")}"]`).forEach((f) => {
        f.querySelector(".count").textContent = String(result.votes);
        f.querySelector('input[name="direction"]').value = result.voted ? "undo" : "up";
        const b = f.querySelector("button");
        b.setAttribute("aria-pressed", result.voted ? "true" : "false");
        b.title = result.voted ? "Take back your vote" : "Upvote";
      });
    } finally {
      button.disabled = false;
      button.focus();
    }
  });

  // Category filters apply on change; the Filter button stays for keyboard and no-JS users.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });

  // Keys: "/" to search, j / k to move between papers, like a feed reader.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/") {
      const box = document.getElementById("q") || document.getElementById("quick-q");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
      return;
    }
    if (event.key !== "j" && event.key !== "k") return;
    const links = Array.from(document.querySelectorAll("a.paper-link"));
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    const next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
    event.preventDefault();
    links[next].focus();
    links[next].closest("article")?.scrollIntoView({ block: "nearest" });
  });
})();

// Glass Box pages: controls for animations, names and keys for circuitsvis widgets, and small fixes to what the
// build emits. Loaded with `defer` on every page (book/_ext/glassbox_site.py); the page reads fine without it.
(function () {
  "use strict";

  // --- Animations: a pause/play button each; reduced motion starts them paused (on their final frame) ----------
  var reduce = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  function setState(box, state) {
    var button = box.querySelector(".glassbox-animation-toggle");
    var moving = box.querySelector(".glassbox-animation-moving");
    if (state === "playing" && box.dataset.state === "paused" && moving) {
      var src = moving.getAttribute("src");  // start again from the first frame
      moving.setAttribute("src", "");
      moving.setAttribute("src", src);
    }
    box.dataset.state = state;
    if (button) {
      var playing = state === "playing";
      button.textContent = playing ? "Pause animation" : "Play animation";
      button.title = playing ? "Stop on the trained model's frame" : "Play the training from its first step";
    }
  }

  function setUpAnimations() {
    var boxes = document.querySelectorAll(".glassbox-animation");
    boxes.forEach(function (box) {
      if (box.querySelector(".glassbox-animation-toggle")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "glassbox-animation-toggle";
      button.addEventListener("click", function () {
        setState(box, box.dataset.state === "playing" ? "paused" : "playing");
      });
      box.insertBefore(button, box.firstChild);
      setState(box, reduce.matches ? "paused" : "playing");
    });
    if (reduce.addEventListener) {
      reduce.addEventListener("change", function (event) {
        if (event.matches) boxes.forEach(function (box) { setState(box, "paused"); });
      });
    }
  }

  // --- circuitsvis: name each canvas, reach each head from the keyboard ---------------------------------------
  function labelWidget(widget) {
    widget.querySelectorAll("h4").forEach(function (label) {
      var card = label.parentElement, canvas = card && card.querySelector("canvas");
      if (!canvas) return;
      var name = label.textContent.trim();
      canvas.setAttribute("aria-label", "Attention pattern of head " + name + ", thumbnail");
      if (card.getAttribute("tabindex") === null) {
        card.setAttribute("tabindex", "0");
        card.setAttribute("role", "button");
        card.setAttribute("aria-label", "Show head " + name + " enlarged");
        card.classList.add("glassbox-cv-head");
        card.addEventListener("focus", function () {
          canvas.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
        });
        card.addEventListener("blur", function () {
          canvas.dispatchEvent(new MouseEvent("mouseout", { bubbles: true }));
        });
        card.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            canvas.dispatchEvent(new MouseEvent("click", { bubbles: true }));
          }
        });
      }
    });
    widget.querySelectorAll("h2").forEach(function (title) {
      var canvas = title.parentElement && title.parentElement.querySelector("canvas");
      if (canvas) {
        canvas.setAttribute("aria-label", "Attention pattern of head " + title.textContent.trim() +
          ", enlarged: one row per query token, one column per key token, darker where it attends more");
      }
    });
  }

  function setUpWidgets() {
    document.querySelectorAll(".glassbox-circuitsvis").forEach(function (widget) {
      labelWidget(widget);
      // circuitsvis draws (and redraws on hover or click) after this runs: name what it draws as it appears.
      // Directly in the callback, not in an animation frame, which a background tab never gets.
      if (window.MutationObserver) {
        new MutationObserver(function () { labelWidget(widget); })
          .observe(widget, { childList: true, subtree: true, characterData: true });
      }
    });
  }

  // --- MyST-NB's folded code cells: the visible "Show code cell source" is the summary's name ---------------
  function nameFoldedCells() {
    document.querySelectorAll('summary[aria-label="Toggle hidden content"]').forEach(function (summary) {
      summary.removeAttribute("aria-label");
    });
  }

  // --- The theme's search buttons show "Search Ctrl+K" but are named "Search": let the visible text name them ----
  function nameSearchButtons() {
    document.querySelectorAll('.search-button__button[aria-label="Search"]').forEach(function (button) {
      if (button.textContent.replace(/\s+/g, " ").trim().length > "Search".length) button.removeAttribute("aria-label");
    });
  }

  // --- On a phone, a figure wider than the screen scrolls inside its output box (glassbox.css): reach it by keyboard ---
  function focusScrollingOutputs() {
    document.querySelectorAll("article .cell_output").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && box.getAttribute("tabindex") === null) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", "Cell output, scrolls sideways");
      }
    });
  }

  function start() {
    focusScrollingOutputs();
    window.addEventListener("resize", focusScrollingOutputs);
    nameSearchButtons();
    setUpAnimations();
    setUpWidgets();
    nameFoldedCells();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

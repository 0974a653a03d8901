/*
 * Moves the comment form under the comment being answered. Without this
 * script the "Rispondi" links still work: they load ?replytocom=ID#respond,
 * where the server prepares the same form.
 */
(function () {
  "use strict";

  var respond = document.getElementById("respond");
  if (!respond) {
    return;
  }
  var form = respond.querySelector("form");
  var parentField = document.getElementById("comment_parent");
  var title = document.getElementById("reply-title");
  var cancelLink = document.getElementById("cancel-comment-reply-link");
  if (!form || !parentField || !title || !cancelLink) {
    return;
  }
  var cancelBox = cancelLink.parentNode;
  var defaultTitle = title.getAttribute("data-default-title") || title.textContent;

  // Marks where the form lives, so "Annulla risposta" can put it back.
  var home = document.createElement("div");
  home.hidden = true;
  respond.parentNode.insertBefore(home, respond);

  // The first field still to fill (name and email come before the text, and
  // a returning reader's are already there); the heading, a live region,
  // says whom the reply is for.
  function focusComment() {
    var fields = form.querySelectorAll("input[required], textarea");
    for (var i = 0; i < fields.length; i++) {
      if (!fields[i].value.trim() || fields[i].tagName === "TEXTAREA") {
        fields[i].focus();
        return;
      }
    }
  }

  function replyTo(link) {
    // The comment's own item: an imported comment is anchored by the id it had
    // on the old blog, which may be another comment's id here.
    var item = link.closest("li");
    if (!item) {
      return false;
    }
    var body = item.querySelector(".comment-body");
    item.insertBefore(respond, body ? body.nextSibling : item.firstChild);
    parentField.value = link.getAttribute("data-comment-id");
    title.textContent = "Rispondi a " + link.getAttribute("data-reply-to");
    cancelBox.hidden = false;
    focusComment();
    return true;
  }

  function cancel() {
    home.parentNode.insertBefore(respond, home);
    parentField.value = "0";
    title.textContent = defaultTitle;
    cancelBox.hidden = true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".comment-reply-link") : null;
    if (link && replyTo(link)) {
      event.preventDefault();
    }
  });

  cancelLink.addEventListener("click", function (event) {
    event.preventDefault();
    cancel();
    focusComment();
  });
})();

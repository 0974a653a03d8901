/*
 * An old link's #comment-N on a page of comments that does not hold that
 * comment (WordPress, unpaged, showed them all on the post's page): the
 * comment's own address says which page does, and the reader goes there.
 * Without this script the reader lands on the post's first page of comments.
 */
(function () {
  "use strict";

  var wanted = /^#comment-([0-9]+)$/.exec(window.location.hash);
  var list = document.querySelector("[data-comment-link]");
  if (!wanted || !list || document.getElementById("comment-" + wanted[1])) {
    return;
  }
  var here = window.location.href.split("#")[0];
  // The comment the anchor names on this post (an imported one's old id).
  var link = list
    .getAttribute("data-comment-link")
    .replace("/0/?", "/" + wanted[1] + "/?");
  // A comment not shown to readers has no page: the reader stays here.
  window.fetch(link, { method: "HEAD", credentials: "same-origin" }).then(
    function (response) {
      if (response.ok && response.redirected && response.url !== here) {
        window.location.replace(response.url + wanted[0]);
      }
    },
    function () {}
  );
})();

// Obra portal: upload progress. Forms work without this script; with it, a form marked
// data-upload shows how much of its file was sent, refuses a file over the limit before
// sending it, and announces each step in its status region (role=status).
(function () {
  "use strict";
  function setup(form) {
    var bar = form.querySelector("progress");
    var box = form.querySelector(".progress");
    var status = form.querySelector(".status");
    form.addEventListener("submit", function (event) {
      var inputs = form.querySelectorAll("input[type=file][data-limit]");
      for (var i = 0; i < inputs.length; i++) {
        var limit = parseInt(inputs[i].getAttribute("data-limit"), 10);
        var files = inputs[i].files || [];
        for (var j = 0; j < files.length; j++) {
          if (limit && files[j].size > limit) {
            event.preventDefault();
            status.textContent = status.getAttribute("data-too-large") + " (" + files[j].name + ")";
            inputs[i].setAttribute("aria-invalid", "true");
            inputs[i].focus();
            return;
          }
        }
      }
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open(form.method || "post", form.action);
      xhr.setRequestHeader("X-Requested-With", "obra-portal");
      if (box) { box.hidden = false; }
      status.textContent = status.getAttribute("data-sending");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && bar) { bar.value = Math.round(100 * e.loaded / e.total); }
      });
      xhr.upload.addEventListener("load", function () {
        if (bar) { bar.value = 100; }
        status.textContent = status.getAttribute("data-processing");
      });
      xhr.addEventListener("load", function () {
        var type = xhr.getResponseHeader("Content-Type") || "";
        if (type.indexOf("text/html") === 0) {
          document.open();
          document.write(xhr.responseText);
          document.close();
          if (xhr.responseURL && xhr.responseURL !== window.location.href) {
            window.history.pushState(null, "", xhr.responseURL);
          }
        } else {
          form.submit();  // a download: let the browser save it
        }
      });
      xhr.addEventListener("error", function () { status.textContent = status.getAttribute("data-failed"); });
      xhr.send(new FormData(form));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-upload]");
    for (var i = 0; i < forms.length; i++) { setup(forms[i]); }
  });
})();

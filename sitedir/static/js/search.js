// Search page enhancements. The page works without this file: the list is always there.
// - Clean links: empty fields are left out of the search URL (the server also redirects
//   such URLs, for browsers without JavaScript).
// - The filter panel opens on wide screens (CSS does this too where ::details-content works).
// - "Use my location": fills the place box with the browser's position (rounded to ~100 m);
//   the server turns it into the nearest postcode district, so no coordinates are shown.
// - The map of results: its markers (/search/points.json) and Leaflet load only when the map
//   is opened (on wide screens, once the page has loaded). Without a tile server
//   (the offline default), or when tiles fail, markers sit on a plain background.
(function () {
  "use strict";

  var WIDE = "(min-width: 40.0625em)";
  var form = document.getElementById("search-form");

  function cleanQuery(formElement) {
    var params = new URLSearchParams();
    var online = formElement.querySelector("#f-online");
    new FormData(formElement).forEach(function (value, name) {
      if (typeof value !== "string" || !value.trim()) {
        return;
      }
      if (name === "online" && online && (online.checked || value === "1")) {
        return; // including online activities is the default: no parameter needed
      }
      params.append(name, value);
    });
    if (!params.get("near")) {
      params.delete("radius");
    }
    return params.toString();
  }

  if (form && window.FormData && window.URLSearchParams) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = cleanQuery(form);
      window.location.assign(form.action + (query ? "?" + query : ""));
    });
  }

  var filterPanel = document.getElementById("filter-panel");
  if (filterPanel && window.matchMedia(WIDE).matches) {
    filterPanel.open = true;
  }

  var button = document.getElementById("use-location");
  var near = document.getElementById("near");
  var message = document.getElementById("location-message");
  if (button && !("geolocation" in navigator && near && form)) {
    button.remove(); // its place was kept for it (see .js-enabled #use-location[hidden])
  } else if (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      message.textContent = "Finding your location…";
      navigator.geolocation.getCurrentPosition(function (position) {
        near.value = position.coords.latitude.toFixed(3) + "," + position.coords.longitude.toFixed(3);
        message.textContent = "Searching near the postcode district you are in…";
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }, function () {
        message.textContent = "Your location is not available. Enter a postcode or place instead.";
      }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 });
    });
  }

  var panel = document.getElementById("map-panel");
  var mapElement = document.getElementById("results-map");
  if (!panel || !mapElement || !window.fetch) {
    return;
  }
  var points = null; // fetched from data-points when the map first opens
  panel.hidden = false;
  var summary = panel.querySelector("summary");
  panel.addEventListener("toggle", function () {
    summary.textContent = panel.open ? "Hide the map" : "Show the map";
    if (panel.open) {
      loadPoints(function () { loadLeaflet(drawMap); });
    }
  });
  if (window.matchMedia(WIDE).matches) {
    panel.open = true; // fires "toggle"; the map's box has a fixed height, so nothing moves
  }

  function loadPoints(then) {
    if (points) {
      if (points.length) {
        then();
      }
      return;
    }
    if (loadPoints.loading) {
      return;
    }
    loadPoints.loading = true;
    fetch(mapElement.dataset.points, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (body) {
        points = body.points;
        if (!points.length) {
          showMessage("None of these activities has a place to show on the map.");
          return;
        }
        mapElement.setAttribute("aria-label", "Map of the " + points.length +
          (points.length === 1 ? " result" : " results") + " with a location");
        then();
      })
      .catch(function () {
        loadPoints.loading = false;
        showMessage("The map could not be loaded. The list of results has everything the map shows.");
      });
  }

  function loadLeaflet(then) {
    if (window.L) {
      then(window.L);
      return;
    }
    if (loadLeaflet.loading) {
      return;
    }
    loadLeaflet.loading = true;
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = mapElement.dataset.leafletCss;
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = mapElement.dataset.leafletJs;
    script.onload = function () { then(window.L); };
    script.onerror = function () {
      showMessage("The map could not be loaded. The list of results has everything the map shows.");
    };
    document.head.appendChild(script);
  }

  function showMessage(text) {
    document.getElementById("map-message").textContent = text;
  }

  function plainBackground(reason) {
    mapElement.classList.add("sd-map--plain");
    showMessage(reason + " The markers show where the activities are" +
      (mapElement.dataset.centre ? ", and the circle the area you searched." : "."));
  }

  function drawMap(L) {
    if (drawMap.done) {
      return;
    }
    drawMap.done = true;
    L.Icon.Default.imagePath = mapElement.dataset.markerIcon;
    var tileUrl = mapElement.dataset.tileUrl;
    var map = L.map(mapElement, { scrollWheelZoom: false, attributionControl: Boolean(tileUrl) });
    if (tileUrl) {
      var tiles = L.tileLayer(tileUrl, { maxZoom: 18, attribution: mapElement.dataset.attribution });
      var loaded = false;
      tiles.on("tileload", function () { loaded = true; });
      tiles.on("tileerror", function () {
        if (!loaded && map.hasLayer(tiles)) { // the tile server is unreachable: stop asking it
          map.removeLayer(tiles);
          map.attributionControl.remove();
          plainBackground("The street map is not available at the moment.");
        }
      });
      tiles.addTo(map);
    } else {
      plainBackground("There is no street map on this site.");
    }
    drawMarkers(L, map);
  }

  // Markers closer than a touch target would overlap, be impossible to tell apart and fail
  // WCAG 2.5.8: at each zoom level, listings within MERGE_PIXELS share one marker whose popup
  // lists them all.
  var MERGE_PIXELS = 34;

  function groupsAtZoom(map) {
    var groups = [];
    points.forEach(function (point) {
      var at = map.latLngToLayerPoint([point.lat, point.lon]);
      var home = groups.find(function (group) { return group.at.distanceTo(at) < MERGE_PIXELS; });
      if (home) {
        home.points.push(point);
      } else {
        groups.push({ at: at, points: [point] });
      }
    });
    return groups;
  }

  function describe(group) {
    var first = group[0];
    if (group.length === 1) {
      return first.title + (first.approximate ? " (approximate location)" : "");
    }
    return group.length + " activities: " + group.map(function (p) { return p.title; }).join(", ");
  }

  function popupFor(group) {
    var list = document.createElement("ul");
    list.className = "govuk-list";
    group.forEach(function (point) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.className = "govuk-link";
      link.href = point.url;
      link.textContent = point.title;
      item.appendChild(link);
      list.appendChild(item);
    });
    return list;
  }

  function drawMarkers(L, map) {
    var layer = L.layerGroup().addTo(map);
    // Popups pan clear of the zoom buttons (top left) instead of opening underneath them.
    var popupOptions = { autoPanPaddingTopLeft: L.point(56, 96), autoPanPaddingBottomRight: L.point(16, 16) };

    function draw() {
      layer.clearLayers();
      groupsAtZoom(map).forEach(function (group) {
        var first = group.points[0];
        var title = describe(group.points);
        L.marker([first.lat, first.lon], { title: title, alt: title, keyboard: true })
          .bindPopup(popupFor(group.points), popupOptions).addTo(layer);
      });
    }

    var bounds = points.map(function (point) { return [point.lat, point.lon]; });
    if (mapElement.dataset.centre) {
      var centre = mapElement.dataset.centre.split(",").map(Number);
      var miles = Number(mapElement.dataset.radius || 5);
      var metres = miles * 1609.344;
      map.fitBounds(L.latLng(centre).toBounds(metres * 2));
      L.circle(centre, { radius: metres, fill: false, weight: 2, interactive: false }).addTo(map);
    } else {
      map.fitBounds(bounds, { maxZoom: 14, padding: [20, 20] });
    }
    draw();
    map.on("zoomend", draw);
  }
})();
